-- The incentive mechanism a submission was for: subtensor keeps weights,
-- LastUpdate and reveals per mechanism (storage index netuid + id·4096);
-- rows written before there was a choice were for mechanism 0.
ALTER TABLE weight_submissions ADD COLUMN mechanism INTEGER NOT NULL DEFAULT 0;
