#include "engine/store/sqlite/lock_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace keel::store::sqlite {

Result<std::unique_ptr<LockFile>> LockFile::Acquire(const std::string& db_path) {
  std::string path = db_path + ".lock";
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  int error = fd < 0 ? errno : 0;
  if (error == EACCES || error == EROFS || error == EPERM) {
    // flock works on a read-only descriptor, so an existing lock file in a read-only
    // place still excludes other processes; SQLite then reports the read-only database.
    fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      return FailedPrecondition("database " + db_path + " is read-only (cannot create lock file " +
                                path + ": " + std::strerror(error) + ")");
    }
  }
  if (fd < 0) {
    return FailedPrecondition("cannot open lock file " + path + ": " + std::strerror(error));
  }
  // flock, not fcntl locks: flock locks belong to the open file description, so a second
  // store opened on the same path inside this process is refused too.
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    close(fd);
    if (error == EWOULDBLOCK) {
      return FailedPrecondition("database " + db_path +
                                " is in use by another Keel process (lock file " + path + ")");
    }
    return FailedPrecondition("cannot lock " + path + ": " + std::strerror(error));
  }
  return std::unique_ptr<LockFile>(new LockFile(fd, std::move(path)));
}

LockFile::~LockFile() {
  // Closing the descriptor releases the lock. The file stays: deleting it would race with
  // another process that has just opened it and is about to lock it.
  close(fd_);
}

}  // namespace keel::store::sqlite
