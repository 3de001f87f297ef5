-- CreateTable
CREATE TABLE "staff_users" (
    "username" VARCHAR(100) NOT NULL,
    "name" TEXT NOT NULL,
    "roles" TEXT[],
    "org_unit" VARCHAR(12) NOT NULL,
    "email" TEXT,
    "phone" VARCHAR(20),
    "active" BOOLEAN NOT NULL DEFAULT true,

    CONSTRAINT "staff_users_pkey" PRIMARY KEY ("username")
);

-- CreateTable
CREATE TABLE "office_channels" (
    "org_unit" VARCHAR(12) NOT NULL,
    "kind" VARCHAR(10) NOT NULL,
    "url" TEXT NOT NULL,
    "secret" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "office_channels_pkey" PRIMARY KEY ("org_unit","kind")
);

-- CreateTable
CREATE TABLE "children" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "birth_date" DATE NOT NULL,
    "village_code" VARCHAR(12) NOT NULL,
    "township_code" VARCHAR(12) NOT NULL,
    "status" VARCHAR(10) NOT NULL,
    "guardian_name" TEXT,
    "guardian_phone" VARCHAR(20),
    "revision" INTEGER NOT NULL,

    CONSTRAINT "children_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "mentors" (
    "child_id" UUID NOT NULL,
    "pairing_id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "phone" VARCHAR(20),
    "username" VARCHAR(100),

    CONSTRAINT "mentors_pkey" PRIMARY KEY ("child_id")
);

-- CreateTable
CREATE TABLE "messages" (
    "id" UUID NOT NULL,
    "dedup_key" TEXT NOT NULL,
    "source_event_id" TEXT NOT NULL,
    "source_event_type" VARCHAR(40) NOT NULL,
    "rule" VARCHAR(40) NOT NULL,
    "channel" VARCHAR(10) NOT NULL,
    "template" VARCHAR(40) NOT NULL,
    "urgent" BOOLEAN NOT NULL,
    "recipient_username" VARCHAR(100),
    "address" TEXT NOT NULL,
    "recipient_name" TEXT,
    "org_unit" VARCHAR(12) NOT NULL,
    "child_id" UUID,
    "title" TEXT NOT NULL,
    "body" TEXT NOT NULL,
    "vars" JSONB NOT NULL,
    "secret" TEXT,
    "status" VARCHAR(10) NOT NULL,
    "not_before" TIMESTAMPTZ(3) NOT NULL,
    "enqueued_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "provider_id" TEXT,
    "sent_at" TIMESTAMPTZ(3),
    "read_at" TIMESTAMPTZ(3),
    "failed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "messages_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "outbox" (
    "id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "org_unit" TEXT NOT NULL,
    "envelope" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "published_at" TIMESTAMPTZ(3),
    "publish_attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,

    CONSTRAINT "outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inbox" (
    "event_id" UUID NOT NULL,
    "type" TEXT NOT NULL,
    "processed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "inbox_pkey" PRIMARY KEY ("event_id")
);

-- CreateIndex
CREATE INDEX "staff_users_org_unit_idx" ON "staff_users"("org_unit");

-- CreateIndex
CREATE INDEX "children_status_idx" ON "children"("status");

-- CreateIndex
CREATE UNIQUE INDEX "messages_dedup_key_key" ON "messages"("dedup_key");

-- CreateIndex
CREATE INDEX "messages_recipient_username_channel_created_at_idx" ON "messages"("recipient_username", "channel", "created_at");

-- CreateIndex
CREATE INDEX "messages_status_enqueued_at_idx" ON "messages"("status", "enqueued_at");

-- CreateIndex
CREATE INDEX "messages_org_unit_created_at_idx" ON "messages"("org_unit", "created_at");

-- CreateIndex
CREATE INDEX "outbox_published_at_created_at_idx" ON "outbox"("published_at", "created_at");
