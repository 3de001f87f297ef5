export * from "./normalize.js";
export * from "./dates.js";
export * from "./semester.js";
