-- CreateTable
CREATE TABLE "audit_entries" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "user_id" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "roles" TEXT[],
    "org_unit" VARCHAR(12) NOT NULL,
    "action" VARCHAR(20) NOT NULL,
    "child_ids" UUID[],
    "method" VARCHAR(8) NOT NULL,
    "path" TEXT NOT NULL,
    "status" INTEGER NOT NULL,
    "request_id" TEXT NOT NULL,

    CONSTRAINT "audit_entries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "audit_entries_at_idx" ON "audit_entries"("at");

-- CreateIndex
CREATE INDEX "audit_entries_user_id_at_idx" ON "audit_entries"("user_id", "at");

-- Audit lookups by child ("who looked at this child?"): Prisma cannot declare a GIN index on an array.
CREATE INDEX "audit_entries_child_ids_gin" ON "audit_entries" USING GIN ("child_ids");
