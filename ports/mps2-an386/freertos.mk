# The FreeRTOS image (included by the Makefile): the FreeRTOS kernel V11.2.0
# (portable/GCC/ARM_CM4F, heap_4), lwIP 2.1.3 with its tcpip thread (NO_SYS 0,
# LWIP_TCPIP_CORE_LOCKING 1: ports/freertos/include/lwipopts.h unchanged, sys_arch.c),
# the LAN9118 driver as a netif fed from its own task, and examples/sensor-push; the Rust
# library built against that configuration (features lwip,firmware,listener).
#
#   make -C ports/mps2-an386 freertos [FREERTOS_DIR=...]
#
# Produces $(OUT)/freertos-sensor.elf (and .map). The kernel is not committed:
# scripts/fetch-freertos puts it in .deps/freertos. Run it with scripts/test-freertos-fw.

FREERTOS_DIR ?= $(ROOT)/.deps/freertos/FreeRTOS-Kernel
RTOS_PORT    := $(FREERTOS_DIR)/portable/GCC/ARM_CM4F
RTOS_OUT     := $(OUT)/freertos
SENSOR_DIR   := $(ROOT)/examples/sensor-push
# Its own cargo folder: bindgen's view of lwIP differs from the bare-metal builds'.
RTOS_CARGO_TARGET_DIR ?= $(CARGO_TARGET_DIR)/freertos-cm4
RTOS_INCLUDE := $(ROOT)/ports/freertos/include $(PORT_DIR)/freertos \
                $(FREERTOS_DIR)/include $(RTOS_PORT)
RTOS_CPPFLAGS := $(addprefix -I,$(RTOS_INCLUDE)) -I$(LWIP_DIR)/src/include -I$(PORT_DIR) \
                 -I$(ROOT)/include -I$(SENSOR_DIR) -I$(RTOS_OUT)/gen -DMPS2_FREERTOS
RTOS_HEADERS := $(wildcard $(ROOT)/ports/freertos/include/*.h \
                $(ROOT)/ports/freertos/include/arch/*.h $(ROOT)/ports/freertos/cm4/*.h \
                $(PORT_DIR)/freertos/*.h $(PORT_DIR)/*.h $(SENSOR_DIR)/*.h)
space        := $(subst ,, )
RTOS_RUST    := $(RTOS_CARGO_TARGET_DIR)/$(RUST_TARGET)/$(RUST_PROFILE)/liblwip_ws.a
RTOS_RUST_ENV := LWIP_DIR=$(LWIP_DIR) LWIP_INCLUDE_DIRS=$(subst $(space),:,$(RTOS_INCLUDE)) \
                LWIP_CFLAGS="$(ARCH)" LWIP_DEFINES= LWIP_COMPILE=0 \
                CC_thumbv7em_none_eabihf=$(CC) AR_thumbv7em_none_eabihf=$(AR) \
                CARGO_TARGET_DIR=$(RTOS_CARGO_TARGET_DIR)

ifeq ($(wildcard $(FREERTOS_DIR)/tasks.c),)
freertos:
	@echo "no FreeRTOS kernel at $(FREERTOS_DIR): run scripts/fetch-freertos" >&2; exit 1
else
RTOS_KERNEL_SRCS := $(addprefix $(FREERTOS_DIR)/,tasks.c queue.c list.c \
                    portable/MemMang/heap_4.c) $(RTOS_PORT)/port.c
RTOS_LWIP_SRCS   := $(COREFILES) $(CORE4FILES) $(LWIPDIR)/api/tcpip.c \
                    $(LWIPDIR)/netif/ethernet.c
RTOS_OURS        := $(ROOT)/ports/freertos/sys_arch.c $(PORT_DIR)/board.c \
                    $(PORT_DIR)/lan9118.c $(PORT_DIR)/freertos/main_freertos.c \
                    $(SENSOR_DIR)/sensor_push.c
rtos_obj = $(RTOS_OUT)/$(1)/$(basename $(notdir $(2))).o
RTOS_KERNEL_OBJS := $(foreach f,$(RTOS_KERNEL_SRCS),$(call rtos_obj,kernel,$(f)))
RTOS_LWIP_OBJS   := $(patsubst $(LWIPDIR)/%.c,$(RTOS_OUT)/lwip/%.o,$(RTOS_LWIP_SRCS))
RTOS_OUR_OBJS    := $(foreach f,$(RTOS_OURS),$(call rtos_obj,ours,$(f)))

.PHONY: freertos
freertos: $(OUT)/freertos-sensor.elf

define rtos_rule
$(call rtos_obj,$(1),$(2)): $(2) $(RTOS_HEADERS) $(3)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(RTOS_CPPFLAGS) $$(CFLAGS) $(4) -c -o $$@ $$<
endef
$(foreach f,$(RTOS_KERNEL_SRCS),$(eval $(call rtos_rule,kernel,$(f),,-Wno-unused-parameter)))
$(foreach f,$(RTOS_OURS),$(eval $(call rtos_rule,ours,$(f),$(RTOS_OUT)/gen/sensor_page.h $(ROOT)/include/lwip_ws.h,-Werror)))

$(RTOS_OUT)/lwip/%.o: $(LWIPDIR)/%.c $(RTOS_HEADERS)
	@mkdir -p $(dir $@)
	$(CC) $(RTOS_CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(RTOS_OUT)/liblwip.a: $(RTOS_LWIP_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(RTOS_OUT)/gen/sensor_page.h: $(SENSOR_DIR)/index.html
	@mkdir -p $(dir $@)
	cd $(dir $<) && xxd -i index.html | sed 's/^unsigned/static const unsigned/' > $@.tmp
	mv $@.tmp $@

$(RTOS_OUT)/liblwip_ws.a: FORCE
	@mkdir -p $(dir $@)
	cd $(ROOT) && $(RTOS_RUST_ENV) $(CARGO) rustc --quiet --lib --crate-type staticlib \
	    --profile $(RUST_PROFILE) \
	    --target $(RUST_TARGET) --no-default-features --features lwip,firmware,listener
	cmp -s $(RTOS_RUST) $@ || cp $(RTOS_RUST) $@

$(OUT)/freertos-sensor.elf: $(OUT)/obj/port/startup.o $(RTOS_KERNEL_OBJS) $(RTOS_OUR_OBJS) \
                 $(RTOS_OUT)/liblwip.a $(RTOS_OUT)/liblwip_ws.a $(PORT_DIR)/mps2.ld
	$(CC) $(LDFLAGS) -Wl,-Map=$(@:.elf=.map) -o $@ $(OUT)/obj/port/startup.o \
	    $(RTOS_KERNEL_OBJS) $(RTOS_OUR_OBJS) \
	    -lc -lgcc $(RTOS_OUT)/liblwip_ws.a $(RTOS_OUT)/liblwip.a -lc -lgcc
endif
