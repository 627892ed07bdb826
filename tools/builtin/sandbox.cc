#include "tools/builtin/sandbox.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "tools/internal/unique_fd.h"

namespace keel::tools::internal {

namespace {

std::string Quote(std::string_view path) { return "'" + std::string(path) + "'"; }

Status FromErrno(int err, std::string_view path, std::string_view what) {
  std::string where = Quote(path);
  switch (err) {
    case ENOENT:
      return NotFound(where + ": no such file or directory");
    case ELOOP:
      return Status(StatusCode::kPermissionDenied,
                    where + ": symbolic links are not followed in the sandbox");
    case ENOTDIR:
      return InvalidArgument(where + ": a part of the path is not a directory");
    case EISDIR:
      return InvalidArgument(where + ": is a directory");
    case ENXIO:
    case ENODEV:
      return InvalidArgument(where + ": not a regular file");
    case EACCES:
    case EPERM:
    case EROFS:
      return Status(StatusCode::kPermissionDenied, where + ": " + std::strerror(err));
    case ENAMETOOLONG:
      return InvalidArgument(where + ": name too long");
    default:
      return Unavailable(std::string(what) + " " + where + ": " + std::strerror(err));
  }
}

// The path's components, or kPermissionDenied/kInvalidArgument for paths that could
// never be inside the sandbox.
Result<std::vector<std::string>> Components(std::string_view path) {
  if (path.empty()) return InvalidArgument("empty path");
  if (path.find('\0') != std::string_view::npos)
    return InvalidArgument("the path contains a NUL byte");
  if (path.front() == '/') {
    return Status(
        StatusCode::kPermissionDenied,
        Quote(path) + ": absolute paths are not allowed; paths are relative to the sandbox");
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part == "..") {
      return Status(StatusCode::kPermissionDenied,
                    Quote(path) + ": '..' is not allowed in sandbox paths");
    }
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = end + 1;
  }
  if (parts.empty())
    return InvalidArgument(Quote(path) + ": is the sandbox directory itself, not a file");
  return parts;
}

// O_NOFOLLOW | O_DIRECTORY on a symbolic link fails with ENOTDIR; say ELOOP for a link.
int LinkAware(int dir, const char* name, int err) {
  struct stat st;
  if (err == ENOTDIR && ::fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
    return ELOOP;
  return err;
}

// Opens the directory that holds the last component, walking from `root` without
// following links; creates missing directories when asked.
Result<UniqueFd> OpenParent(const std::string& root, const std::vector<std::string>& parts,
                            std::string_view path, bool create) {
  UniqueFd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid()) return FromErrno(errno, root, "opening the sandbox");
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const char* name = parts[i].c_str();
    int fd = ::openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
      if (::mkdirat(dir.get(), name, 0755) != 0 && errno != EEXIST)
        return FromErrno(errno, path, "creating");
      fd = ::openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) return FromErrno(LinkAware(dir.get(), name, errno), path, "opening");
    dir.Reset(fd);
  }
  return dir;
}

// Regular files with a single link only: another hard link could be a way out.
Status CheckRegular(int fd, std::string_view path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return FromErrno(errno, path, "reading");
  if (S_ISDIR(st.st_mode)) return InvalidArgument(Quote(path) + ": is a directory");
  if (!S_ISREG(st.st_mode)) return InvalidArgument(Quote(path) + ": not a regular file");
  if (st.st_nlink > 1) {
    return Status(StatusCode::kPermissionDenied,
                  Quote(path) + ": has other hard links; refused in the sandbox");
  }
  return Status::Ok();
}

}  // namespace

Result<Sandbox> Sandbox::Open(const std::string& root) {
  char* resolved = ::realpath(root.c_str(), nullptr);
  if (resolved == nullptr)
    return InvalidArgument("sandbox root '" + root + "': " + std::strerror(errno));
  std::string canonical(resolved);
  std::free(resolved);
  struct stat st;
  if (::stat(canonical.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return InvalidArgument("sandbox root '" + root + "' is not a directory");
  }
  return Sandbox(canonical);
}

Result<std::string> Sandbox::ReadFile(std::string_view path, size_t max_bytes) const {
  KEEL_ASSIGN_OR_RETURN(auto parts, Components(path));
  KEEL_ASSIGN_OR_RETURN(UniqueFd dir, OpenParent(root_, parts, path, false));
  UniqueFd file(::openat(dir.get(), parts.back().c_str(),
                         O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!file.valid()) return FromErrno(errno, path, "opening");
  KEEL_RETURN_IF_ERROR(CheckRegular(file.get(), path));
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(file.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FromErrno(errno, path, "reading");
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > max_bytes) {
      return InvalidArgument(Quote(path) + ": larger than the limit of " +
                             std::to_string(max_bytes) + " bytes");
    }
  }
  return data;
}

Status Sandbox::WriteFile(std::string_view path, std::string_view content,
                          bool create_directories) const {
  KEEL_ASSIGN_OR_RETURN(auto parts, Components(path));
  KEEL_ASSIGN_OR_RETURN(UniqueFd dir, OpenParent(root_, parts, path, create_directories));
  // No O_TRUNC: nothing changes until the file has passed the checks.
  UniqueFd file(::openat(dir.get(), parts.back().c_str(),
                         O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
                         0644));
  if (!file.valid()) return FromErrno(errno, path, "opening");
  KEEL_RETURN_IF_ERROR(CheckRegular(file.get(), path));
  if (::ftruncate(file.get(), 0) != 0) return FromErrno(errno, path, "truncating");
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(file.get(), content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FromErrno(errno, path, "writing");
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(file.get()) != 0) return FromErrno(errno, path, "syncing");
  return Status::Ok();
}

}  // namespace keel::tools::internal
