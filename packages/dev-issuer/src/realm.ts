// The realm export is read the same way by production code (the notifications staff
// directory) and by this issuer: the reader lives in @shouhu/kit, not in a dev tool.
export * from "@shouhu/kit/realm";
