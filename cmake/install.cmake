# Installation: headers, the library, a CMake package (find_package(rebound)
# giving rebound::rebound) and a pkg-config file.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

install(TARGETS rebound EXPORT reboundTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/rebound DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT reboundTargets NAMESPACE rebound:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rebound)
configure_package_config_file(cmake/reboundConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/reboundConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rebound)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/reboundConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/reboundConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/reboundConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rebound)
# Relocatable: the prefix is found from the .pc file's own location.
file(RELATIVE_PATH REBOUND_PC_TO_PREFIX "${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig" "${CMAKE_INSTALL_PREFIX}")
configure_file(cmake/rebound.pc.in ${CMAKE_CURRENT_BINARY_DIR}/rebound.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/rebound.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(TARGET rebound_cli)
  install(TARGETS rebound_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
