export { createTestDatabase, type TestDatabase } from "./database.js";
export { testPrefix } from "./prefix.js";
