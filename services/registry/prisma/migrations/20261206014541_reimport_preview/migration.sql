-- AlterTable
ALTER TABLE "import_batches" ADD COLUMN     "mode" VARCHAR(8) NOT NULL DEFAULT 'create';

-- CreateTable
CREATE TABLE "reimport_rows" (
    "id" BIGSERIAL NOT NULL,
    "batch_id" UUID NOT NULL,
    "kind" VARCHAR(10) NOT NULL,
    "status" VARCHAR(10) NOT NULL DEFAULT 'pending',
    "id_number" VARCHAR(18) NOT NULL,
    "name" TEXT NOT NULL,
    "child_id" UUID,
    "sheet" TEXT,
    "row_number" INTEGER,
    "base_revision" INTEGER,
    "changes" JSONB NOT NULL DEFAULT '[]',
    "input" JSONB,
    "decided_by" TEXT,
    "decided_at" TIMESTAMPTZ(3),

    CONSTRAINT "reimport_rows_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "reimport_rows_batch_id_kind_id_idx" ON "reimport_rows"("batch_id", "kind", "id");

-- CreateIndex
CREATE UNIQUE INDEX "reimport_rows_batch_id_id_number_key" ON "reimport_rows"("batch_id", "id_number");

-- AddForeignKey
ALTER TABLE "reimport_rows" ADD CONSTRAINT "reimport_rows_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "import_batches"("id") ON DELETE CASCADE ON UPDATE CASCADE;
