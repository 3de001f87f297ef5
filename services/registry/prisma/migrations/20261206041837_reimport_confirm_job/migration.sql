-- AlterTable
ALTER TABLE "import_batches" ADD COLUMN     "confirm_actor" JSONB,
ADD COLUMN     "confirm_done" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "confirm_seq" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "confirm_total" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "reimport_rows" ADD COLUMN     "error" TEXT;
