#include <stdio.h>
#include <string.h>

#include "otap/common.h"

const char* otap_version(void) { return OTAP_VERSION_STRING; }

int otap_error_set(struct otap_error* err, int code, const char* fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
  }
  return code;
}

int otap_error_prefix(struct otap_error* err, int code, const char* fmt, ...) {
  if (err) {
    char prefix[OTAP_ERROR_MESSAGE_MAX];
    char old[OTAP_ERROR_MESSAGE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof(prefix), fmt, ap);
    va_end(ap);
    memcpy(old, err->message, sizeof(old));
    old[sizeof(old) - 1] = '\0';
    size_t plen = strlen(prefix);
    size_t olen = strlen(old);
    if (plen > sizeof(err->message) - 1) plen = sizeof(err->message) - 1;
    if (olen > sizeof(err->message) - 1 - plen) olen = sizeof(err->message) - 1 - plen;
    memcpy(err->message, prefix, plen);
    memcpy(err->message + plen, old, olen);
    err->message[plen + olen] = '\0';
  }
  return code;
}

const char* otap_errno_name(int code) {
  switch (code) {
    case 0: return "OK";
    case EINVAL: return "EINVAL";
    case ENOTSUP: return "ENOTSUP";
    case ENOMEM: return "ENOMEM";
    case EIO: return "EIO";
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EAGAIN: return "EAGAIN";
    case ERANGE: return "ERANGE";
    case EEXIST: return "EEXIST";
    case EOVERFLOW: return "EOVERFLOW";
    case ECANCELED: return "ECANCELED";
    case EPERM: return "EPERM";
    case ENODATA: return "ENODATA";
    default: return "EUNKNOWN";
  }
}
