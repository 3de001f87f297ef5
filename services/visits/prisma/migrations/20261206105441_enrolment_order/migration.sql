-- CreateTable
CREATE TABLE "enrolments" (
    "child_id" UUID NOT NULL,
    "semester" VARCHAR(11) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "revision" INTEGER NOT NULL,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "enrolments_pkey" PRIMARY KEY ("child_id","semester")
);
