export * from "./errors.js";
export * from "./config.js";
export * from "./logger.js";
export * from "./telemetry.js";
export * from "./health.js";
export * from "./app.js";
export { errorHandler, notFoundHandler, validationIssues } from "./error-handler.js";
export * from "./audit.js";
export { isDependencyUnavailable, RETRY_AFTER_SECONDS } from "./unavailable.js";
