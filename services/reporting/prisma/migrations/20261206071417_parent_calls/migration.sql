-- AlterTable
ALTER TABLE "visit_records" ADD COLUMN     "call_connected" BOOLEAN,
ADD COLUMN     "call_minutes" INTEGER;
