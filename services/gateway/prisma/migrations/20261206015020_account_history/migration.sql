-- CreateTable
CREATE TABLE "account_events" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "account_id" VARCHAR(64) NOT NULL,
    "username" VARCHAR(255) NOT NULL,
    "action" VARCHAR(20) NOT NULL,
    "actor_id" VARCHAR(64) NOT NULL,
    "actor_username" VARCHAR(255) NOT NULL,
    "changes" JSONB NOT NULL DEFAULT '{}',
    "request_id" VARCHAR(64) NOT NULL,

    CONSTRAINT "account_events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "account_events_account_id_at_idx" ON "account_events"("account_id", "at");
