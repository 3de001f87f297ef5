-- CreateTable
CREATE TABLE "current_pairings" (
    "child_id" UUID NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "pairing_id" UUID NOT NULL,
    "helper_id" UUID NOT NULL,
    "helper_kind" VARCHAR(24) NOT NULL,
    "name" TEXT NOT NULL,
    "phone" TEXT,
    "username" VARCHAR(100),
    "since" DATE NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "current_pairings_pkey" PRIMARY KEY ("child_id","kind")
);

-- CreateTable
CREATE TABLE "ended_pairings" (
    "pairing_id" UUID NOT NULL,
    "child_id" UUID NOT NULL,
    "end_date" DATE NOT NULL,

    CONSTRAINT "ended_pairings_pkey" PRIMARY KEY ("pairing_id")
);

-- CreateIndex
CREATE INDEX "current_pairings_username_idx" ON "current_pairings"("username");
