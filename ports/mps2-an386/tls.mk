# The TLS firmware image (included from the Makefile): https:// and wss:// on lwIP's
# altcp_tls and mbedTLS 2.28 built from source for Cortex-M4 with the project's own
# configuration (tls/mbedtls_config_fw.h).
#
#   make -C ports/mps2-an386 tls [MBEDTLS_DIR=...] [TLS_CERT_DIR=...]
#
# MBEDTLS_DIR: an mbedTLS 2.28 tree (default .deps/mbedtls-2.28, scripts/fetch-mbedtls).
# TLS_CERT_DIR: a folder with server.pem and server.key compiled into the image
#   (default: $(OUT)/tls-certs, made once by tests/tls/make-certs.sh: a test CA there
#   signs a certificate for localhost and 127.0.0.1). Test certificates only: a product
#   keeps its key out of the image or in protected storage.
# Produces $(OUT)/tls.elf (+ tls.map), and $(OUT)/libmbedtls-fw.a, $(OUT)/liblwip-tls.a
# whose objects scripts/bench-firmware-tls measures. Run it with scripts/test-firmware-tls.

MBEDTLS_DIR  ?= $(ROOT)/.deps/mbedtls-2.28
TLS_CERT_DIR ?= $(OUT)/tls-certs
TLS_DIR      := $(PORT_DIR)/tls
TLS_OUT      := $(OUT)/obj/tls
TLS_CONFIG   := MBEDTLS_CONFIG_FILE='<mbedtls_config_fw.h>'
TLS_CPPFLAGS := -I$(TLS_DIR) -I$(MBEDTLS_DIR)/include -D$(TLS_CONFIG) \
                -I$(LWIPDIR)/apps/altcp_tls $(CPPFLAGS)
TLS_HEADERS  := $(wildcard $(TLS_DIR)/*.h) $(HEADERS)
# The Rust library with TLS and lwIP's altcp (its own target folder: another lwIP
# configuration than the plain images').
TLS_TARGET_DIR := $(CARGO_TARGET_DIR)/fw-tls
TLS_RUST_OUT   := $(TLS_TARGET_DIR)/$(RUST_TARGET)/$(RUST_PROFILE)/liblwip_ws.a
TLS_RUST_ENV   := LWIP_DIR=$(LWIP_DIR) LWIP_INCLUDE_DIRS=$(TLS_DIR):$(PORT_DIR)/include \
                  LWIP_CFLAGS="$(ARCH) -I$(MBEDTLS_DIR)/include" \
                  LWIP_DEFINES='MBEDTLS_CONFIG_FILE=<mbedtls_config_fw.h>' LWIP_COMPILE=0 \
                  CC_thumbv7em_none_eabihf=$(CC) AR_thumbv7em_none_eabihf=$(AR) \
                  CARGO_TARGET_DIR=$(TLS_TARGET_DIR)
FEATURES_tls := lwip,firmware,listener,tls

# lwIP's altcp_tls_mbedtls_mem.c is replaced by tls/tls_port.c (counted, on lwIP's heap).
TLS_LWIP_SRCS := $(LWIP_SRCS) $(LWIPDIR)/apps/altcp_tls/altcp_tls_mbedtls.c
TLS_LWIP_OBJS := $(patsubst $(LWIPDIR)/%.c,$(TLS_OUT)/lwip/%.o,$(TLS_LWIP_SRCS))
MBEDTLS_SRCS  := $(wildcard $(MBEDTLS_DIR)/library/*.c)
MBEDTLS_OBJS  := $(patsubst $(MBEDTLS_DIR)/library/%.c,$(TLS_OUT)/mbedtls/%.o,$(MBEDTLS_SRCS))
TLS_OBJS      := $(addprefix $(TLS_OUT)/,main_tls.o tls_port.o entropy_test_only.o)
# The board files again, with this image's lwIP configuration.
TLS_PORT_OBJS := $(OUT)/obj/port/startup.o \
                 $(addprefix $(TLS_OUT)/port/,board.o lan9118.o hostnet_mps2.o)

.PHONY: tls
tls: $(OUT)/tls.elf

ifeq ($(filter tls $(OUT)/tls.elf,$(MAKECMDGOALS)),)
else ifeq ($(wildcard $(MBEDTLS_DIR)/include/mbedtls/ssl.h),)
$(error no mbedTLS tree at $(MBEDTLS_DIR): set MBEDTLS_DIR=<path to mbedTLS 2.28> or run scripts/fetch-mbedtls)
endif

$(TLS_OUT)/mbedtls/%.o: $(MBEDTLS_DIR)/library/%.c $(TLS_DIR)/mbedtls_config_fw.h
	@mkdir -p $(dir $@)
	$(CC) -I$(TLS_DIR) -I$(MBEDTLS_DIR)/include -D$(TLS_CONFIG) $(CFLAGS) -c -o $@ $<

# lwIP's mbedTLS port ignores mbedtls_ssl_flush_output's result in three places (it
# retries on the next poll) and compares an int to PBUF_POOL_BUFSIZE in an assertion.
$(TLS_OUT)/lwip/apps/altcp_tls/altcp_tls_mbedtls.o: CFLAGS += -Wno-unused-result -Wno-sign-compare

$(TLS_OUT)/lwip/%.o: $(LWIPDIR)/%.c $(TLS_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(TLS_CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(TLS_OUT)/port/%.o: $(PORT_DIR)/%.c $(TLS_HEADERS) $(ROOT)/include/lwip_ws.h \
                     $(OUT)/gen/hostnet.h
	@mkdir -p $(dir $@)
	$(CC) $(TLS_CPPFLAGS) $(CFLAGS) -Werror -c -o $@ $<

$(TLS_OUT)/%.o: $(TLS_DIR)/%.c $(TLS_HEADERS) $(ROOT)/include/lwip_ws.h $(OUT)/gen/hostnet.h \
                $(OUT)/gen/page.h $(OUT)/gen/tls_cert.h
	@mkdir -p $(dir $@)
	$(CC) $(TLS_CPPFLAGS) $(CFLAGS) -Werror -c -o $@ $<

$(OUT)/libmbedtls-fw.a: $(MBEDTLS_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(OUT)/liblwip-tls.a: $(TLS_LWIP_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

# make-certs.sh writes the key with the certificate: one target for both.
$(TLS_CERT_DIR)/server.pem:
	$(ROOT)/tests/tls/make-certs.sh $(TLS_CERT_DIR)

# Remade every run, replaced only when it differs: TLS_CERT_DIR may change between runs
# (scripts/test-firmware-tls makes a certificate each time).
$(OUT)/gen/tls_cert.h: $(TLS_CERT_DIR)/server.pem FORCE
	@mkdir -p $(dir $@)
	cd $(TLS_CERT_DIR) && xxd -i server.pem > $@.tmp && xxd -i server.key >> $@.tmp
	cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

$(OUT)/rust-tls/liblwip_ws.a: FORCE
	@mkdir -p $(dir $@)
	cd $(ROOT) && $(TLS_RUST_ENV) $(CARGO) rustc --quiet --lib --crate-type staticlib \
	    --profile $(RUST_PROFILE) \
	    --target $(RUST_TARGET) --no-default-features --features $(FEATURES_tls)
	cmp -s $(TLS_RUST_OUT) $@ || cp $(TLS_RUST_OUT) $@

# The Rust library after -lc -lgcc (see LIBS_END); it, lwIP and mbedTLS refer to each
# other: one group.
$(OUT)/tls.elf: $(TLS_PORT_OBJS) $(TLS_OBJS) $(OUT)/liblwip-tls.a $(OUT)/libmbedtls-fw.a \
                $(OUT)/rust-tls/liblwip_ws.a $(PORT_DIR)/mps2.ld
	$(CC) $(LDFLAGS) -Wl,--wrap=mbedtls_ssl_handshake -Wl,-Map=$(@:.elf=.map) -o $@ \
	    $(TLS_PORT_OBJS) $(TLS_OBJS) -lc -lgcc -Wl,--start-group \
	    $(OUT)/rust-tls/liblwip_ws.a $(OUT)/liblwip-tls.a $(OUT)/libmbedtls-fw.a \
	    -Wl,--end-group -lc -lgcc
