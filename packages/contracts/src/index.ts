export * from "./enums.js";
export * from "./envelope.js";
export * from "./events.js";
export * from "./queues.js";
