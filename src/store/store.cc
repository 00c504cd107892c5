// OpenStore: a store by where it is, a directory (SQLite) or a URL (PostgreSQL).
#include "store/store.h"

#include "store/pg.h"

namespace sw::store {

bool IsStoreUrl(const std::string& location) { return pg::IsPostgresUrl(location); }

Result<std::unique_ptr<Store>> OpenStore(const std::string& location, const StoreOptions& options) {
  if (IsStoreUrl(location)) return OpenPostgres(location, options);
  return OpenSqlite(location, options);
}

std::string StoreLocationForDisplay(const std::string& location) {
  return IsStoreUrl(location) ? pg::RedactUrl(location) : location;
}

}  // namespace sw::store
