export { DEFAULT_LIMITS, SpreadsheetLimitError, inspectXlsx, type SpreadsheetLimits, type XlsxSummary } from "./limits.js";
