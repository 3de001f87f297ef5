-- AlterTable
ALTER TABLE "due_items" ADD COLUMN     "plan_note" TEXT,
ADD COLUMN     "planned_at" TIMESTAMPTZ(3),
ADD COLUMN     "planned_by" TEXT;

-- AlterTable
ALTER TABLE "visit_records" ADD COLUMN     "call_connected" BOOLEAN,
ADD COLUMN     "call_with" TEXT[];
