-- AlterTable
ALTER TABLE "mentors" ADD COLUMN     "started_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "ended_pairings" (
    "pairing_id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "end_date" DATE NOT NULL,

    CONSTRAINT "ended_pairings_pkey" PRIMARY KEY ("pairing_id")
);
