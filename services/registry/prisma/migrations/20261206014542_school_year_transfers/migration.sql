-- CreateTable
CREATE TABLE "school_promotions" (
    "school_id" VARCHAR(32) NOT NULL,
    "school_year" VARCHAR(9) NOT NULL,
    "promoted" INTEGER NOT NULL,
    "awaiting" INTEGER NOT NULL,
    "actor_id" TEXT NOT NULL,
    "actor_name" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "school_promotions_pkey" PRIMARY KEY ("school_id","school_year")
);

-- CreateTable
CREATE TABLE "transfer_requests" (
    "id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "from_township" VARCHAR(12) NOT NULL,
    "to_village" VARCHAR(12) NOT NULL,
    "to_township" VARCHAR(12) NOT NULL,
    "to_school_id" VARCHAR(32),
    "status" VARCHAR(10) NOT NULL,
    "reason" TEXT NOT NULL,
    "requested_by" TEXT NOT NULL,
    "requested_name" TEXT,
    "requested_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "decided_by" TEXT,
    "decided_name" TEXT,
    "decided_at" TIMESTAMPTZ(3),
    "decision_note" TEXT,

    CONSTRAINT "transfer_requests_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "transfer_requests_from_township_status_idx" ON "transfer_requests"("from_township", "status");

-- CreateIndex
CREATE INDEX "transfer_requests_to_township_status_idx" ON "transfer_requests"("to_township", "status");

-- CreateIndex
CREATE INDEX "transfer_requests_child_id_status_idx" ON "transfer_requests"("child_id", "status");
CREATE UNIQUE INDEX "transfer_requests_one_pending" ON "transfer_requests"("child_id") WHERE status = 'pending';
