# core test targets (see dvs_add_test in the top CMakeLists.txt).
# Every test starts its own dvsd (DVSD_BIN, set by dvs_add_test) and forks real client processes.

dvs_add_test(dvs_errors_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/errors_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_ids_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/ids_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_primitives_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/primitives_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_notify_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/notify_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_deadlock_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/deadlock_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_lifecycle_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/lifecycle_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_isolation_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/isolation_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_vcopy_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/vcopy_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_waitmodes_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/waitmodes_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_dvsd_cli_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/dvsd_cli_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_races_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/races_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_control_plane_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/control_plane_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_control_authority_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/control_authority_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_semantics_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/semantics_test.cpp LIBS dvs_testing LABELS core)
dvs_add_test(dvs_restart_test SOURCES ${CMAKE_CURRENT_LIST_DIR}/restart_test.cpp LIBS dvs_testing LABELS core)

# Threads of one process hammering the primitives; the only target the TSan build runs.
dvs_add_test(dvs_tsan_tests SOURCES ${CMAKE_CURRENT_LIST_DIR}/tsan_test.cpp LIBS dvs_testing LABELS tsan)
