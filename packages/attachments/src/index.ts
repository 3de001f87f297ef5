export { objectStoreConfigFields, type ObjectStoreConfig } from "./config.js";
export { AttachmentStore, THUMBNAIL_SIZE, type OpenedObject, type StoredFile } from "./store.js";
export { DOCUMENT_TYPES, MB, PHOTO_TYPES, allowedTypes, describeAllowed, expiresAt, type AttachmentPolicy, type FileClass } from "./policy.js";
export { contentDisposition, safeFileName } from "./names.js";
export { readUpload, sendObject } from "./http.js";
export { purgeExpired, type ExpiredRow } from "./retention.js";
export {
  photoTable,
  registerPhotoRoutes,
  type PhotoAction,
  type PhotoDb,
  type PhotoRow,
  type AttachmentRowBase,
  type PhotoRoutes,
  type PhotoTable,
  type PhotoTableSpec,
} from "./photos.js";
