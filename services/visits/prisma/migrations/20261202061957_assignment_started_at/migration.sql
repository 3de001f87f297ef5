-- AlterTable
ALTER TABLE "assignments" ADD COLUMN     "started_at" TIMESTAMPTZ(3);
