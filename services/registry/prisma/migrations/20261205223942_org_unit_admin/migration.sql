-- AlterTable
ALTER TABLE "org_units" ADD COLUMN     "merged_into" VARCHAR(12),
ADD COLUMN     "retired_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "schools" ADD COLUMN     "code" VARCHAR(10),
ADD COLUMN     "retired_at" TIMESTAMPTZ(3),
ADD COLUMN     "type" VARCHAR(10);

-- CreateIndex
CREATE UNIQUE INDEX "schools_code_key" ON "schools"("code");
