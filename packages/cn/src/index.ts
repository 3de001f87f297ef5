export * from "./normalize.js";
export * from "./dates.js";
