-- AlterTable
ALTER TABLE "children" ADD COLUMN     "parents" JSONB NOT NULL DEFAULT '[]';
