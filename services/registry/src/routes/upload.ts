// Moved to @shouhu/spreadsheet (the pairing service's helper import takes uploads too).
export { readUploadedXlsx } from "@shouhu/spreadsheet";
