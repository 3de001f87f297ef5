-- AlterTable
ALTER TABLE "due_items" ADD COLUMN     "responsible" VARCHAR(20) NOT NULL DEFAULT 'mentor';

-- CreateTable
CREATE TABLE "ended_pairings" (
    "pairing_id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "end_date" DATE NOT NULL,

    CONSTRAINT "ended_pairings_pkey" PRIMARY KEY ("pairing_id")
);
