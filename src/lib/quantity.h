/* quantity.h — Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource):
 * "500m", "1.5Gi", "1e3", "128974848". Parsing follows ParseQuantity's grammar, rounding
 * and caps; printing follows Quantity.String() byte for byte, including its habit of
 * keeping the input text when that text is already canonical.
 *
 * A quantity is a plain value (no heap memory): copy it freely. All functions are pure and
 * thread-safe. Nothing here logs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum {
  QUANTITY_DECIMAL_SI,       /* 1k, 500m, 1 */
  QUANTITY_BINARY_SI,        /* 1Ki, 5Gi */
  QUANTITY_DECIMAL_EXPONENT, /* 1e3, 5E-3 */
} quantity_format_t;

typedef struct {
  __int128 mant; /* the value is mant × 10^scale */
  int32_t scale;
  quantity_format_t format;
  /* The input text, when apimachinery keeps it as the printed form; "" otherwise. */
  char str[40];
} quantity_t;

/* The three parse errors, word for word as Kubernetes reports them. */
#define QUANTITY_ERR_FORMAT                                                                \
  "quantities must match the regular expression "                                         \
  "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
#define QUANTITY_ERR_NUMERIC "unable to parse numeric part of quantity"
#define QUANTITY_ERR_SUFFIX "unable to parse quantity's suffix"

/* Parses s. Returns 0 and the quantity in *ret, or -EINVAL and, if ret_err is set, one of
 * the constant messages above (static storage: do not free). Values are rounded up (away
 * from zero) to nano units; binary-SI values are capped at 2^63-1. Unlike Kubernetes,
 * numbers with more than 38 significant digits and exponents beyond ±100000 are refused
 * with QUANTITY_ERR_NUMERIC. */
int quantity_parse(const char *s, quantity_t *ret, const char **ret_err);

/* Convenience: whether s parses. */
bool quantity_valid(const char *s);

/* value × 10^0 and value × 10^-3 in the given format. */
quantity_t quantity_from_int64(int64_t value, quantity_format_t format);
quantity_t quantity_from_milli(int64_t milli, quantity_format_t format);

/* The printed form, as Quantity.String(): "500m", "1536Mi", "1e3", "0". Caller frees. */
char *quantity_to_string(const quantity_t *q);

/* -1, 0 or 1 as a < b, a == b, a > b, comparing values (formats do not matter). */
int quantity_cmp(const quantity_t *a, const quantity_t *b);

bool quantity_is_zero(const quantity_t *q);
int quantity_sign(const quantity_t *q);

/* The value in units and in thousandths, rounded up (away from zero) like Quantity.Value()
 * and MilliValue(); saturated at INT64_MIN/INT64_MAX where Kubernetes would overflow. */
int64_t quantity_value(const quantity_t *q);
int64_t quantity_milli_value(const quantity_t *q);

/* *a += b (or -= b). As in Kubernetes, a zero *a takes b's format; the kept input text is
 * dropped. Returns 0, or -ERANGE (leaving *a unchanged) if the sum does not fit. */
int quantity_add(quantity_t *a, const quantity_t *b);
int quantity_sub(quantity_t *a, const quantity_t *b);
