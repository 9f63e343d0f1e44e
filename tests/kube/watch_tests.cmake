# The Watcher against scripted API servers and the real `rebound serve`.
rebound_add_test(kube_watch_tests
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/watcher_test.cpp ${CMAKE_CURRENT_LIST_DIR}/watch_event_test.cpp
  LIBS rebound_kube_watch rebound_test_support)
target_include_directories(kube_watch_tests PRIVATE ${PROJECT_SOURCE_DIR}/kube/src)
