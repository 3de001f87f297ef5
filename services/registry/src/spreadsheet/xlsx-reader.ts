// The reader moved to @shouhu/spreadsheet (the pairing service's helper import reads .xlsx too).
export { readXlsx, type Cell, type Merge, type Sheet } from "@shouhu/spreadsheet";
