# bench.elf: instructions per echoed message, lwip-ws against a raw lwIP TCP echo, measured
# inside the image (main_bench.c) under QEMU `-icount shift=0`. Server-only library
# (features lwip,firmware), as echo.elf. Run it with scripts/bench-mcu.
#
#   make -C ports/mps2-an386 bench

.PHONY: bench
bench: $(OUT)/bench.elf

BENCH_OBJS := $(addprefix $(OUT)/obj/port/,startup.o board.o main_bench.o)

$(OUT)/bench.elf: $(BENCH_OBJS) $(OUT)/liblwip.a $(OUT)/rust-server/liblwip_ws.a \
                  $(PORT_DIR)/mps2.ld
	$(CC) $(LDFLAGS) -Wl,-Map=$(@:.elf=.map) -o $@ $(BENCH_OBJS) \
	    $(call LIBS_END,$(OUT)/rust-server/liblwip_ws.a)
