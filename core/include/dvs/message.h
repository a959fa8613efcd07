/* The dvs message: one 64-byte cache line (m_source, m_type, 56-byte payload union).
 * The original M3-IPC message was 36 bytes on i386 (48 on x86_64); figures that compare the
 * "one message" point against the original must say so. The formats follow MINIX's mess_N in
 * spirit, widened to 64-bit pointers/longs; mess_9 is what notify builds. */
#ifndef DVS_MESSAGE_H
#define DVS_MESSAGE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DVS_MSG_SIZE 64
#define DVS_MSG_PAYLOAD 56

typedef struct { int32_t m1i1, m1i2, m1i3, m1pad; uint64_t m1p1, m1p2, m1p3; } dvs_mess_1;
typedef struct { int32_t m2i1, m2i2, m2i3, m2pad; int64_t m2l1, m2l2; uint64_t m2p1; } dvs_mess_2;
typedef struct { int32_t m3i1, m3i2; uint64_t m3p1; char m3ca1[40]; } dvs_mess_3;
typedef struct { int64_t m4l1, m4l2, m4l3, m4l4, m4l5; } dvs_mess_4;
typedef struct { int32_t m7i1, m7i2, m7i3, m7i4; uint64_t m7p1, m7p2; } dvs_mess_7;
/* notify: m9_l1 = NOTIFY_ARG (pending bits), m9_t1 = send time (CLOCK_REALTIME). */
typedef struct { int64_t m9_l1; int64_t m9_t1_sec; int64_t m9_t1_nsec; int32_t m9_i1, m9_i2; } dvs_mess_9;

typedef struct dvs_message {
  int32_t m_source; /* overwritten with the sender's endpoint by every primitive */
  int32_t m_type;
  union {
    dvs_mess_1 m1;
    dvs_mess_2 m2;
    dvs_mess_3 m3;
    dvs_mess_4 m4;
    dvs_mess_7 m7;
    dvs_mess_9 m9;
    uint8_t raw[DVS_MSG_PAYLOAD];
  } m_u;
} dvs_message_t;

/* m_type of a message built by notify: NOTIFY_FROM(src p_nr) as in MINIX. */
#define DVS_NOTIFY_MESSAGE 0x1000
#define DVS_NOTIFY_FROM(p_nr) (DVS_NOTIFY_MESSAGE | ((p_nr) & 0xfff))
#define DVS_IS_NOTIFY(m_type) (((m_type) & ~0xfff) == DVS_NOTIFY_MESSAGE)

#ifdef __cplusplus
}
static_assert(sizeof(dvs_message_t) == DVS_MSG_SIZE, "a dvs message is one 64-byte cache line");
#endif
#endif
