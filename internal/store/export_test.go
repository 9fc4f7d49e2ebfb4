package store

import "context"

// MigrateUpTo applies pending migrations up to version, for tests of a
// migration against rows written before it.
func (s *Store) MigrateUpTo(ctx context.Context, version int64) ([]Migration, error) {
	return s.migrate(ctx, version)
}
