#include "plsim/state.hpp"

#include <algorithm>

namespace plsim {

void grow_student_columns(State& state) {
  const std::size_t capacity = state.students.id.capacity() + state.students.id.capacity() / 2 + 1024;
  state.students.for_each_column([&](auto& column) {
    using Column = std::decay_t<decltype(column)>;
    auto old = std::make_shared<Column>(std::move(column));
    column = Column();
    column.reserve(capacity);
    column.assign(old->begin(), old->end());
    state.retired_columns.push_back(std::move(old));
  });
}

namespace {
template <class T>
void permute(std::vector<T>& column, const std::vector<std::uint32_t>& order) {
  std::vector<T> gathered(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) gathered[i] = column[order[i]];
  column.resize(order.size());
  std::copy(gathered.begin(), gathered.end(), column.begin());
}
}  // namespace

void permute_students(StudentColumns& students, const std::vector<std::uint32_t>& order) {
  students.for_each_column([&](auto& column) { permute(column, order); });
}

}  // namespace plsim
