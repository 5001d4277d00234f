// Local directory backend: keys are '/'-separated paths below a root directory. Keys that
// would escape the root ("..", absolute paths, symlinks pointing outside) are refused;
// puts go to a temporary name renamed into place (otap_sink_open_file), so readers never
// see half files.
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store_internal.h"

static int oom(struct otap_error* err) {
  return otap_error_set(err, ENOMEM, "out of memory");
}

int otap__store_open_local(struct otap_store* s, const char* path,
                           struct otap_error* err) {
  s->ops = &otap__store_local_ops;
  OTAP_RETURN_IF(!*path, err, EINVAL, "empty local store path");
  char real[PATH_MAX];
  if (!realpath(path, real)) {
    int e = errno;
    return otap_error_set(err, e == ENOENT ? ENOENT : EIO, "%s: %s", path, strerror(e));
  }
  struct stat st;
  OTAP_RETURN_IF(stat(real, &st) != 0 || !S_ISDIR(st.st_mode), err, ENOTDIR,
                 "%s: not a directory", path);
  s->root = otap_strdup(real);
  s->url = otap_strdup(path);
  s->prefix = otap_strdup("");
  if (!s->root || !s->url || !s->prefix) return oom(err);
  return 0;
}

// Refuses keys that are absolute or contain empty, "." or ".." segments.
static int check_key(struct otap_store* s, const char* key, bool allow_empty,
                     struct otap_error* err) {
  if (!*key && allow_empty) return 0;
  OTAP_RETURN_IF(key[0] == '/', err, EACCES, "%s: key '%s' is absolute", s->url, key);
  const char* p = key;
  for (;;) {
    const char* slash = strchr(p, '/');
    size_t n = slash ? (size_t)(slash - p) : strlen(p);
    bool last = !slash;
    if ((n == 0 && !(last && allow_empty)) || (n == 1 && p[0] == '.') ||
        (n == 2 && p[0] == '.' && p[1] == '.')) {
      return otap_error_set(err, EACCES, "%s: key '%s' escapes or is not a plain path",
                            s->url, key);
    }
    if (last) break;
    p = slash + 1;
  }
  return 0;
}

static bool inside_root(const struct otap_store* s, const char* real) {
  size_t rl = strlen(s->root);
  if (strcmp(s->root, "/") == 0) return true;
  return strncmp(real, s->root, rl) == 0 && (real[rl] == '/' || real[rl] == '\0');
}

// Resolves an existing key to a real path inside the root.
static int resolve(struct otap_store* s, const char* key, char* out,
                   struct otap_error* err) {
  OTAP_RETURN_NOT_OK(check_key(s, key, false, err));
  char path[PATH_MAX];
  int n = snprintf(path, sizeof(path), "%s/%s", s->root, key);
  OTAP_RETURN_IF(n < 0 || (size_t)n >= sizeof(path), err, EINVAL, "%s: key too long",
                 s->url);
  if (!realpath(path, out)) {
    int e = errno;
    return otap_error_set(err, e == ENOENT || e == ENOTDIR ? ENOENT : EIO, "%s/%s: %s",
                          s->url, key, strerror(e));
  }
  OTAP_RETURN_IF(!inside_root(s, out), err, EACCES,
                 "%s/%s: resolves outside the store root", s->url, key);
  return 0;
}

int otap__store_local_path(struct otap_store* s, const char* key, char* out, size_t cap,
                           struct otap_error* err) {
  char real[PATH_MAX];
  OTAP_RETURN_NOT_OK(resolve(s, key, real, err));
  struct stat st;
  OTAP_RETURN_IF(stat(real, &st) != 0 || !S_ISREG(st.st_mode), err, ENOENT,
                 "%s/%s: not a regular file", s->url, key);
  int n = snprintf(out, cap, "%s", real);
  OTAP_RETURN_IF(n < 0 || (size_t)n >= cap, err, EINVAL, "%s/%s: path too long", s->url,
                 key);
  return 0;
}

static int local_head(struct otap_store* s, const char* key,
                      struct otap_store_object* out, struct otap_error* err) {
  char real[PATH_MAX];
  OTAP_RETURN_NOT_OK(resolve(s, key, real, err));
  struct stat st;
  OTAP_RETURN_IF(stat(real, &st) != 0, err, EIO, "%s/%s: %s", s->url, key,
                 strerror(errno));
  OTAP_RETURN_IF(!S_ISREG(st.st_mode), err, ENOENT, "%s/%s: not a regular file", s->url,
                 key);
  out->size = st.st_size;
  out->mtime = st.st_mtime;
  return 0;
}

static int open_key(struct otap_store* s, const char* key, int* fd, int64_t* size,
                    struct otap_error* err) {
  char real[PATH_MAX];
  OTAP_RETURN_NOT_OK(resolve(s, key, real, err));
  *fd = open(real, O_RDONLY | O_CLOEXEC);
  OTAP_RETURN_IF(*fd < 0, err, errno == ENOENT ? ENOENT : EIO, "%s/%s: %s", s->url, key,
                 strerror(errno));
  struct stat st;
  if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(*fd);
    return otap_error_set(err, ENOENT, "%s/%s: not a regular file", s->url, key);
  }
  *size = st.st_size;
  return 0;
}

static int pread_full(int fd, uint8_t* buf, size_t len, uint64_t off) {
  while (len) {
    ssize_t r = pread(fd, buf, len, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return EIO;
    buf += r;
    len -= (size_t)r;
    off += (uint64_t)r;
  }
  return 0;
}

static int local_get(struct otap_store* s, const char* key, struct otap_buffer* out,
                     struct otap_error* err) {
  int fd;
  int64_t size;
  OTAP_RETURN_NOT_OK(open_key(s, key, &fd, &size, err));
  int rc = otap_buffer_reserve(out, size);
  if (rc) {
    close(fd);
    return otap_error_set(err, ENOMEM, "%s/%s: %lld bytes do not fit in memory", s->url,
                          key, (long long)size);
  }
  rc = pread_full(fd, out->data + out->size, (size_t)size, 0);
  close(fd);
  OTAP_RETURN_IF(rc, err, EIO, "%s/%s: short read", s->url, key);
  out->size += size;
  return 0;
}

static int local_get_ranges(struct otap_store* s, const char* key,
                            struct otap_store_range* r, size_t n,
                            struct otap_error* err) {
  int fd;
  int64_t size;
  OTAP_RETURN_NOT_OK(open_key(s, key, &fd, &size, err));
  int rc = 0;
  for (size_t i = 0; i < n && rc == 0; i++) {
    if (r[i].offset > (uint64_t)size || r[i].length > (uint64_t)size - r[i].offset) {
      rc = otap_error_set(
          err, EINVAL, "%s/%s: range of %zu bytes at %llu is past the end (%lld)", s->url,
          key, r[i].length, (unsigned long long)r[i].offset, (long long)size);
    } else if (pread_full(fd, r[i].buf, r[i].length, r[i].offset)) {
      rc = otap_error_set(err, EIO, "%s/%s: short read at offset %llu", s->url, key,
                          (unsigned long long)r[i].offset);
    }
  }
  close(fd);
  return rc;
}

// Creates the parent directories of key inside the root, refusing symlinks that leave it.
static int make_parents(struct otap_store* s, const char* key, char* path,
                        struct otap_error* err) {
  int n = snprintf(path, PATH_MAX, "%s/%s", s->root, key);
  OTAP_RETURN_IF(n < 0 || n >= PATH_MAX, err, EINVAL, "%s: key too long", s->url);
  size_t rl = strlen(s->root);
  for (char* p = path + rl + 1; (p = strchr(p, '/')) != NULL; p++) {
    *p = '\0';
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
      int e = errno;
      *p = '/';
      return otap_error_set(err, EIO, "%s/%s: cannot create directory: %s", s->url, key,
                            strerror(e));
    }
    char real[PATH_MAX];
    bool ok = realpath(path, real) && inside_root(s, real);
    *p = '/';
    OTAP_RETURN_IF(!ok, err, EACCES,
                   "%s/%s: a parent directory resolves outside the root", s->url, key);
  }
  // An existing symlink at the key itself must not point outside either.
  char real[PATH_MAX];
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
    OTAP_RETURN_IF(!realpath(path, real) || !inside_root(s, real), err, EACCES,
                   "%s/%s: is a symlink leading outside the root", s->url, key);
  }
  return 0;
}

static int local_open_sink(struct otap_store* s, const char* key, struct otap_sink* out,
                           struct otap_error* err) {
  OTAP_RETURN_NOT_OK(check_key(s, key, false, err));
  char path[PATH_MAX];
  OTAP_RETURN_NOT_OK(make_parents(s, key, path, err));
  return otap_sink_open_file(out, path, err);
}

static int local_del(struct otap_store* s, const char* key, struct otap_error* err) {
  OTAP_RETURN_NOT_OK(check_key(s, key, false, err));
  char path[PATH_MAX], real[PATH_MAX];
  snprintf(path, sizeof(path), "%s/%s", s->root, key);
  // Check the parent (the entry itself may be a dangling link, which unlink removes).
  char* slash = strrchr(path, '/');
  *slash = '\0';
  if (!realpath(path, real)) return 0;  // parent missing: nothing to delete
  OTAP_RETURN_IF(!inside_root(s, real), err, EACCES, "%s/%s: resolves outside the root",
                 s->url, key);
  *slash = '/';
  if (unlink(path) != 0 && errno != ENOENT) {
    return otap_error_set(err, EIO, "%s/%s: %s", s->url, key, strerror(errno));
  }
  return 0;
}

static bool is_temp_name(const char* name) {
  return name[0] == '.' && strstr(name, ".tmp") != NULL;
}

// Walks dir (relative path rel, "" or "a/b/") adding entries whose key starts with
// prefix.
static int walk(struct otap_store* s, const char* rel, const char* prefix, bool recursive,
                struct otap__list_page* page, int depth, struct otap_error* err) {
  OTAP_RETURN_IF(depth > 64, err, EINVAL, "%s: directory tree deeper than 64 levels",
                 s->url);
  char dirpath[PATH_MAX];
  int n = snprintf(dirpath, sizeof(dirpath), "%s/%s", s->root, rel);
  OTAP_RETURN_IF(n < 0 || n >= PATH_MAX, err, EINVAL, "%s: path too long", s->url);
  DIR* d = opendir(dirpath);
  if (!d) return 0;  // missing prefix directory: empty listing
  int rc = 0;
  size_t pl = strlen(prefix);
  struct dirent* e;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
        is_temp_name(e->d_name)) {
      continue;
    }
    char key[PATH_MAX];
    n = snprintf(key, sizeof(key), "%s%s", rel, e->d_name);
    if (n < 0 || n >= PATH_MAX - 1) continue;
    char full[PATH_MAX];
    n = snprintf(full, sizeof(full), "%s/%s", s->root, key);
    if (n < 0 || n >= PATH_MAX) continue;
    struct stat st;
    if (lstat(full, &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      char real[PATH_MAX];
      if (!realpath(full, real) || !inside_root(s, real) || stat(real, &st) != 0)
        continue;
      if (S_ISDIR(st.st_mode)) continue;  // never descend through links (cycles)
    }
    size_t kl = strlen(key);
    if (S_ISDIR(st.st_mode)) {
      key[kl] = '/';
      key[kl + 1] = '\0';
      size_t m = kl + 1 < pl ? kl + 1 : pl;
      if (strncmp(key, prefix, m) != 0) continue;  // cannot contain matches
      if (kl + 1 <= pl || recursive) {
        rc = walk(s, key, prefix, recursive, page, depth + 1, err);
      } else {
        rc = otap__list_push(page, key, -1, 0, true);
      }
    } else if (S_ISREG(st.st_mode)) {
      if (kl >= pl && strncmp(key, prefix, pl) == 0) {
        rc = otap__list_push(page, key, st.st_size, st.st_mtime, false);
      }
    }
  }
  closedir(d);
  return rc;
}

static int local_list(struct otap_store* s, const char* prefix, bool recursive,
                      struct otap_store_list* out, struct otap_error* err) {
  OTAP_RETURN_NOT_OK(check_key(s, prefix, true, err));
  struct otap__list_page page;
  memset(&page, 0, sizeof(page));
  page.list = out;
  page.strip = "";
  page.err = err;
  // Start at the deepest directory named by the prefix.
  char rel[PATH_MAX];
  snprintf(rel, sizeof(rel), "%s", prefix);
  char* slash = strrchr(rel, '/');
  if (slash) {
    slash[1] = '\0';
  } else {
    rel[0] = '\0';
  }
  return walk(s, rel, prefix, recursive, &page, 0, err);
}

static int local_put_unused(struct otap_store* s, const char* key, const uint8_t* data,
                            size_t len, struct otap_error* err) {
  (void)s;
  (void)key;
  (void)data;
  (void)len;
  return otap_error_set(err, ENOTSUP, "local store: use a sink");
}

const struct otap__store_ops otap__store_local_ops = {
    local_list,
    local_head,
    local_get,
    local_get_ranges,
    local_open_sink,
    local_del,
    local_put_unused,
    NULL,
    NULL,
    NULL,
    NULL,
};
