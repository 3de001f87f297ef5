export * from "./enums.js";
export * from "./envelope.js";
export * from "./events.js";
export * from "./queues.js";
export { contains, countyOf, orgLevel, orgUnitCode, overlaps, townshipOf, type OrgLevel } from "./org-unit.js";
