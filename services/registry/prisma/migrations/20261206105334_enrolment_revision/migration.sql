-- AlterTable
ALTER TABLE "enrolments" ADD COLUMN     "revision" INTEGER NOT NULL DEFAULT 1;
