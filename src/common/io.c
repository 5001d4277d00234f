#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "otap/common.h"

// ---- memory / mmap source ------------------------------------------------------------------

struct mem_source {
  const uint8_t* data;
  size_t size;
  int fd;          // -1 for caller memory
  bool mapped;     // data is an mmap of fd
  char* name;
};

static int mem_read_at(struct otap_source* self, uint64_t offset, void* buf, size_t len,
                       struct otap_error* err) {
  struct mem_source* m = self->private_data;
  if (offset > m->size || len > m->size - offset) {
    return otap_error_set(err, EIO,
                          "%s: read of %zu bytes at offset %llu past end of data (%zu bytes)",
                          self->name, len, (unsigned long long)offset, m->size);
  }
  if (len) memcpy(buf, m->data + offset, len);
  return 0;
}

static int mem_view_at(struct otap_source* self, uint64_t offset, size_t len,
                       const uint8_t** out, struct otap_error* err) {
  struct mem_source* m = self->private_data;
  if (offset > m->size || len > m->size - offset) {
    return otap_error_set(err, EIO,
                          "%s: view of %zu bytes at offset %llu past end of data (%zu bytes)",
                          self->name, len, (unsigned long long)offset, m->size);
  }
  *out = m->data + offset;
  return 0;
}

static int mem_size(struct otap_source* self, uint64_t* out, struct otap_error* err) {
  (void)err;
  *out = ((struct mem_source*)self->private_data)->size;
  return 0;
}

static void mem_release(struct otap_source* self) {
  struct mem_source* m = self->private_data;
  if (!m) return;
  if (m->mapped && m->size) munmap((void*)m->data, m->size);
  if (m->fd >= 0) close(m->fd);
  otap_free(m->name);
  otap_free(m);
  self->private_data = NULL;
  self->release = NULL;
}

// pread-based fallback for files that cannot be mapped (pipes are rejected earlier).
static int fd_read_at(struct otap_source* self, uint64_t offset, void* buf, size_t len,
                      struct otap_error* err) {
  struct mem_source* m = self->private_data;
  if (offset > m->size || len > m->size - offset) {
    return otap_error_set(err, EIO, "%s: read of %zu bytes at offset %llu past end of file",
                          self->name, len, (unsigned long long)offset);
  }
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(m->fd, (uint8_t*)buf + done, len - done, (off_t)(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return otap_error_set(err, EIO, "%s: read failed at offset %llu: %s", self->name,
                            (unsigned long long)(offset + done), strerror(errno));
    }
    if (n == 0) {
      return otap_error_set(err, EIO, "%s: file shrank while reading (offset %llu)",
                            self->name, (unsigned long long)(offset + done));
    }
    done += (size_t)n;
  }
  return 0;
}

int otap_source_init_memory(struct otap_source* out, const void* data, size_t size,
                            const char* name, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  struct mem_source* m = otap_calloc(1, sizeof(*m));
  if (!m) return otap_error_set(err, ENOMEM, "out of memory");
  m->data = data;
  m->size = size;
  m->fd = -1;
  m->name = otap_strdup(name ? name : "<memory>");
  if (!m->name) {
    otap_free(m);
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  out->read_at = mem_read_at;
  out->view_at = mem_view_at;
  out->size = mem_size;
  out->release = mem_release;
  out->name = m->name;
  out->private_data = m;
  return 0;
}

int otap_source_open_file(struct otap_source* out, const char* path, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return otap_error_set(err, e == ENOENT ? ENOENT : (e == EACCES ? EACCES : EIO),
                          "%s: cannot open: %s", path, strerror(e));
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return otap_error_set(err, EINVAL, "%s: not a regular file", path);
  }
  struct mem_source* m = otap_calloc(1, sizeof(*m));
  char* name = otap_strdup(path);
  if (!m || !name) {
    otap_free(m);
    otap_free(name);
    close(fd);
    return otap_error_set(err, ENOMEM, "out of memory");
  }
  m->fd = fd;
  m->size = (size_t)st.st_size;
  m->name = name;
  out->read_at = fd_read_at;
  out->view_at = NULL;
  if (m->size > 0) {
    void* p = mmap(NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p != MAP_FAILED) {
      m->data = p;
      m->mapped = true;
      out->read_at = mem_read_at;
      out->view_at = mem_view_at;
    }
  }
  out->size = mem_size;
  out->release = mem_release;
  out->name = m->name;
  out->private_data = m;
  return 0;
}

void otap_source_release(struct otap_source* src) {
  if (src && src->release) src->release(src);
}

// ---- sinks ---------------------------------------------------------------------------------

struct file_sink {
  int fd;
  bool is_stdout;
  bool finished;
  char* path;
  char* tmp_path;
};

static int file_write(struct otap_sink* self, const void* data, size_t len,
                      struct otap_error* err) {
  struct file_sink* f = self->private_data;
  const uint8_t* p = data;
  while (len) {
    ssize_t n = write(f->fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return otap_error_set(err, EIO, "%s: write failed: %s", self->name, strerror(errno));
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int file_finish(struct otap_sink* self, struct otap_error* err) {
  struct file_sink* f = self->private_data;
  if (f->finished) return 0;
  if (f->is_stdout) {
    f->finished = true;
    return 0;
  }
  if (close(f->fd) != 0) {
    f->fd = -1;
    return otap_error_set(err, EIO, "%s: close failed: %s", self->name, strerror(errno));
  }
  f->fd = -1;
  if (rename(f->tmp_path, f->path) != 0) {
    return otap_error_set(err, EIO, "%s: rename from %s failed: %s", self->name, f->tmp_path,
                          strerror(errno));
  }
  f->finished = true;
  return 0;
}

static void file_release(struct otap_sink* self) {
  struct file_sink* f = self->private_data;
  if (!f) return;
  if (!f->is_stdout) {
    if (f->fd >= 0) close(f->fd);
    if (!f->finished && f->tmp_path) unlink(f->tmp_path);
  }
  otap_free(f->path);
  otap_free(f->tmp_path);
  otap_free(f);
  self->private_data = NULL;
  self->release = NULL;
}

int otap_sink_open_file(struct otap_sink* out, const char* path, struct otap_error* err) {
  memset(out, 0, sizeof(*out));
  struct file_sink* f = otap_calloc(1, sizeof(*f));
  if (!f) return otap_error_set(err, ENOMEM, "out of memory");
  f->fd = -1;
  f->path = otap_strdup(path);
  if (!f->path) goto oom;
  if (strcmp(path, "-") == 0) {
    f->fd = STDOUT_FILENO;
    f->is_stdout = true;
  } else {
    size_t n = strlen(path) + 32;
    f->tmp_path = otap_malloc(n);
    if (!f->tmp_path) goto oom;
    // Temp file beside the target so rename is atomic on the same file system.
    const char* slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    snprintf(f->tmp_path, n, "%.*s.%s.tmpXXXXXX", dirlen, path, slash ? slash + 1 : path);
    f->fd = mkstemp(f->tmp_path);
    if (f->fd < 0) {
      int e = errno;
      otap_free(f->path);
      otap_free(f->tmp_path);
      otap_free(f);
      return otap_error_set(err, e == EACCES ? EACCES : (e == ENOENT ? ENOENT : EIO),
                            "%s: cannot create: %s", path, strerror(e));
    }
    fchmod(f->fd, 0644);
  }
  out->write = file_write;
  out->finish = file_finish;
  out->release = file_release;
  out->name = f->path;
  out->private_data = f;
  return 0;
oom:
  otap_free(f->path);
  otap_free(f);
  return otap_error_set(err, ENOMEM, "out of memory");
}

static int buf_write(struct otap_sink* self, const void* data, size_t len,
                     struct otap_error* err) {
  if (otap_buffer_append(self->private_data, data, (int64_t)len) != 0) {
    return otap_error_set(err, ENOMEM, "out of memory growing output buffer");
  }
  return 0;
}
static int buf_finish(struct otap_sink* self, struct otap_error* err) {
  (void)self;
  (void)err;
  return 0;
}
static void buf_release(struct otap_sink* self) {
  self->private_data = NULL;
  self->release = NULL;
}

int otap_sink_init_buffer(struct otap_sink* out, struct otap_buffer* buf,
                          struct otap_error* err) {
  (void)err;
  memset(out, 0, sizeof(*out));
  out->write = buf_write;
  out->finish = buf_finish;
  out->release = buf_release;
  out->name = "<memory>";
  out->private_data = buf;
  return 0;
}

void otap_sink_release(struct otap_sink* sink) {
  if (sink && sink->release) sink->release(sink);
}

int otap_read_file(const char* path, struct otap_buffer* buf, struct otap_error* err) {
  int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    return otap_error_set(err, e == ENOENT ? ENOENT : (e == EACCES ? EACCES : EIO),
                          "%s: cannot open: %s", path, strerror(e));
  }
  int rc = 0;
  for (;;) {
    if (otap_buffer_reserve(buf, 1 << 16) != 0) {
      rc = otap_error_set(err, ENOMEM, "%s: file too large or out of memory", path);
      break;
    }
    ssize_t n = read(fd, buf->data + buf->size, (size_t)(buf->capacity - buf->size));
    if (n < 0) {
      if (errno == EINTR) continue;
      rc = otap_error_set(err, EIO, "%s: read failed: %s", path, strerror(errno));
      break;
    }
    if (n == 0) break;
    buf->size += n;
  }
  if (fd != STDIN_FILENO) close(fd);
  return rc;
}
