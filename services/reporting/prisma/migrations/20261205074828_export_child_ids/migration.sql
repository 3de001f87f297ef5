-- AlterTable
ALTER TABLE "export_jobs" ADD COLUMN     "child_ids" UUID[] DEFAULT ARRAY[]::UUID[];
