-- A miner's newest challenges, which the console lists, are an index walk
-- instead of a sort of everything the miner was sent in seven days.
CREATE INDEX compute_challenges_miner_created ON compute_challenges (netuid, hotkey, created_at);
