export { DEFAULT_LIMITS, SpreadsheetLimitError, inspectXlsx, type SpreadsheetLimits, type XlsxSummary } from "./limits.js";
export { readXlsx, type Cell, type Merge, type Sheet } from "./xlsx-reader.js";
export { readUploadedXlsx, type UploadedFilePart } from "./upload.js";
