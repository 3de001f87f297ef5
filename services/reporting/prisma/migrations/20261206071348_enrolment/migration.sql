-- AlterTable
ALTER TABLE "children" ADD COLUMN     "birth_date" DATE;

-- CreateTable
CREATE TABLE "enrolments" (
    "child_id" UUID NOT NULL,
    "semester" VARCHAR(11) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "school_id" VARCHAR(32),
    "school_name" TEXT,
    "village_code" VARCHAR(12) NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "enrolments_pkey" PRIMARY KEY ("child_id","semester")
);

-- CreateIndex
CREATE INDEX "enrolments_semester_village_code_idx" ON "enrolments"("semester", "village_code");
