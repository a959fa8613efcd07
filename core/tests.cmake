# core test targets (see dvs_add_test in the top CMakeLists.txt)
