// Conversions between Keel's exceptions (errors.h) and keel.v1.Failure, both ways, with
// causes. Activity code may throw anything: a std::exception becomes a retryable
// ApplicationError whose type is the exception's class name.
#pragma once

#include <exception>
#include <memory>

#include "engine/errors.h"
#include "keel/v1/common.pb.h"

namespace keel::internal {

v1::Failure ErrorToFailure(const Error& error);
v1::Failure ExceptionToFailure(std::exception_ptr e);
std::shared_ptr<const Error> FailureToError(const v1::Failure& failure);

// An exception_ptr holding `error` with its dynamic type (so catch sites see it).
std::exception_ptr ToExceptionPtr(const Error& error);

// A readable name of the exception's dynamic type ("std::runtime_error").
std::string ExceptionTypeName(const std::exception& e);

}  // namespace keel::internal
