-- CreateTable
CREATE TABLE "scan_state" (
    "county_code" VARCHAR(12) NOT NULL,
    "last_scanned_on" DATE NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "scan_state_pkey" PRIMARY KEY ("county_code")
);
