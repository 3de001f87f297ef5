export { adminUrl, createTestDatabase, type TestDatabase } from "./database.js";
export { removeTestKeys, testPrefix } from "./prefix.js";
export { startTestIssuer, realmFile, devUsersFile, DEMO_PASSWORD, type TestIssuer } from "./issuer.js";
export { childSnapshot, teacherHelper, mentorPairing, pairingStartedData, pairingEndedData, until, type TestHelper } from "./fixtures.js";
export { freePort, postgresBinDir, redisServerBinary, startScratchPostgres, startScratchRedis, type ScratchPostgres, type ScratchRedis } from "./scratch.js";
export { handMadeXlsx, sheetRows, sheetXml, zip } from "./xlsx.js";
export { places, roleCases, roleHeaders, stableSub, type Place, type RoleCase } from "./need-to-know.js";
export { startTestObjectStore, type TestObjectStore } from "./object-store.js";
