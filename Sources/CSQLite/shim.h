// The system SQLite library: Debian's libsqlite3-dev installs sqlite3.h and libsqlite3.so
// (scripts/lib.sh ensure_sqlite installs it when missing).
#include <sqlite3.h>
