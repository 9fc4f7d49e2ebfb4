-- Each weight submission names the chain it was made on (its genesis hash,
-- 0x-hex), so that a journal carried over a chain reset, or shared by two
-- chains, never makes a validator wait for a block another chain reached.
-- Rows written before this column existed keep '' (chain unknown).
ALTER TABLE weight_submissions ADD COLUMN genesis TEXT NOT NULL DEFAULT '';
CREATE INDEX weight_submissions_chain ON weight_submissions (genesis, netuid, block);
