// Keel's exceptions <-> keel.v1.Failure (engine/runtime/failure_convert.cc): every error
// kind survives a round trip with its fields and its chain of causes, and any other
// exception becomes an ApplicationError named after its class.
#include "engine/runtime/failure_convert.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

#include "engine/errors.h"
#include "engine/payload.h"

namespace keel::failure_test {

// A user exception outside std, to check the demangled class name.
class DiskFull : public std::runtime_error {
 public:
  DiskFull() : std::runtime_error("no space left") {}
};

namespace {

using namespace std::chrono_literals;
using internal::ErrorToFailure;
using internal::ExceptionToFailure;
using internal::ExceptionTypeName;
using internal::FailureToError;
using internal::ToExceptionPtr;

std::shared_ptr<const Error> RoundTrip(const Error& e) { return FailureToError(ErrorToFailure(e)); }

// The engine refuses failures that are not UTF-8 (protobuf could not read them back), so
// the SDK repairs what exceptions say: a Latin-1 file name, a model's reply cut mid-character.
TEST(FailureConvertTest, TextThatIsNotUtf8IsRepaired) {
  v1::Failure f = ExceptionToFailure(std::make_exception_ptr(std::runtime_error("cannot open caf\xe9.txt")));
  EXPECT_EQ(f.message(), "cannot open caf\xEF\xBF\xBD.txt");
  v1::Failure app = ErrorToFailure(ApplicationError("Bad\xff", "reply: \xe4\xb8"));
  EXPECT_EQ(app.message(), "reply: \xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(app.application_failure_info().type(), "Bad\xEF\xBF\xBD");
  EXPECT_EQ(ErrorToFailure(ApplicationError("T", "caf\xc3\xa9")).message(), "caf\xc3\xa9");  // valid: kept
}

TEST(FailureConvertTest, ApplicationErrorRoundTripsWithEveryField) {
  ApplicationErrorOptions o;
  o.non_retryable = true;
  o.details = {ToPayload(std::string("card 4242")), ToPayload(3)};
  o.next_retry_delay = 90s;
  ApplicationError e("CardDeclined", "the card was declined", o);

  v1::Failure f = ErrorToFailure(e);
  EXPECT_EQ(f.message(), "the card was declined");
  EXPECT_EQ(f.source(), "keel-cpp");
  ASSERT_TRUE(f.has_application_failure_info());
  EXPECT_EQ(f.application_failure_info().type(), "CardDeclined");
  EXPECT_TRUE(f.application_failure_info().non_retryable());
  EXPECT_FALSE(f.has_cause());

  auto back = FailureToError(f);
  auto* app = dynamic_cast<const ApplicationError*>(back.get());
  ASSERT_NE(app, nullptr) << back->Kind();
  EXPECT_EQ(app->Type(), "CardDeclined");
  EXPECT_STREQ(app->what(), "the card was declined");
  EXPECT_TRUE(app->NonRetryable());
  EXPECT_EQ(app->Details(), o.details);
  ASSERT_TRUE(app->NextRetryDelay().has_value());
  EXPECT_EQ(*app->NextRetryDelay(), 90s);
  EXPECT_EQ(app->Cause(), nullptr);
}

TEST(FailureConvertTest, RetryableApplicationErrorWithoutDelayStaysSo) {
  auto back = RoundTrip(ApplicationError("Transient", "try again"));
  auto* app = dynamic_cast<const ApplicationError*>(back.get());
  ASSERT_NE(app, nullptr);
  EXPECT_FALSE(app->NonRetryable());
  EXPECT_FALSE(app->NextRetryDelay().has_value());
  EXPECT_TRUE(app->Details().empty());
}

TEST(FailureConvertTest, TimeoutErrorRoundTripsWithTypeAndHeartbeatDetails) {
  TimeoutError e(TimeoutType::kHeartbeat, "no heartbeat for 30s",
                 {ToPayload(std::string("page 7"))});
  v1::Failure f = ErrorToFailure(e);
  ASSERT_TRUE(f.has_timeout_failure_info());
  EXPECT_EQ(f.timeout_failure_info().timeout_type(), v1::TIMEOUT_TYPE_HEARTBEAT);
  auto back = FailureToError(f);
  auto* t = dynamic_cast<const TimeoutError*>(back.get());
  ASSERT_NE(t, nullptr) << back->Kind();
  EXPECT_EQ(t->Type(), TimeoutType::kHeartbeat);
  EXPECT_STREQ(t->what(), "no heartbeat for 30s");
  EXPECT_EQ(t->LastHeartbeatDetails(), e.LastHeartbeatDetails());
}

TEST(FailureConvertTest, CanceledErrorRoundTripsWithDetails) {
  CanceledError e("stopped by operator", {ToPayload(std::string("ticket 12"))});
  auto back = RoundTrip(e);
  auto* c = dynamic_cast<const CanceledError*>(back.get());
  ASSERT_NE(c, nullptr) << back->Kind();
  EXPECT_STREQ(c->what(), "stopped by operator");
  EXPECT_EQ(c->Details(), e.Details());
}

TEST(FailureConvertTest, TerminatedAndServerErrorsRoundTrip) {
  auto t = RoundTrip(TerminatedError("by admin"));
  ASSERT_NE(dynamic_cast<const TerminatedError*>(t.get()), nullptr) << t->Kind();
  EXPECT_STREQ(t->what(), "by admin");

  auto s = RoundTrip(ServerError("store unavailable", /*non_retryable=*/true));
  auto* server = dynamic_cast<const ServerError*>(s.get());
  ASSERT_NE(server, nullptr) << s->Kind();
  EXPECT_TRUE(server->NonRetryable());
  EXPECT_STREQ(server->what(), "store unavailable");
}

TEST(FailureConvertTest, ActivityFailureRoundTripsWithItsCause) {
  ActivityFailure e("charge", "7", RetryState::kMaximumAttemptsReached,
                    std::make_shared<ApplicationError>("CardDeclined", "declined"));
  v1::Failure f = ErrorToFailure(e);
  ASSERT_TRUE(f.has_activity_failure_info());
  EXPECT_EQ(f.activity_failure_info().activity_type(), "charge");
  EXPECT_EQ(f.activity_failure_info().activity_id(), "7");
  EXPECT_EQ(f.activity_failure_info().retry_state(), v1::RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED);
  // The detail lives in the cause; the outer message stays short.
  EXPECT_EQ(f.message(), "activity 'charge' failed");
  ASSERT_TRUE(f.has_cause());
  EXPECT_EQ(f.cause().application_failure_info().type(), "CardDeclined");

  auto back = FailureToError(f);
  auto* a = dynamic_cast<const ActivityFailure*>(back.get());
  ASSERT_NE(a, nullptr) << back->Kind();
  EXPECT_EQ(a->ActivityType(), "charge");
  EXPECT_EQ(a->ActivityId(), "7");
  EXPECT_EQ(a->GetRetryState(), RetryState::kMaximumAttemptsReached);
  EXPECT_EQ(a->ErrorType(), "CardDeclined");
  EXPECT_STREQ(a->what(), e.what());
  auto* cause = dynamic_cast<const ApplicationError*>(a->Cause());
  ASSERT_NE(cause, nullptr);
  EXPECT_STREQ(cause->what(), "declined");
}

TEST(FailureConvertTest, ChainOfCausesKeepsEveryLinkAndType) {
  auto canceled = std::make_shared<CanceledError>("deadline hit");
  auto timeout = std::make_shared<TimeoutError>(TimeoutType::kStartToClose, "too slow");
  ApplicationErrorOptions mid;
  mid.cause = canceled;
  auto app = std::make_shared<ApplicationError>("Upstream", "upstream failed", mid);
  ActivityFailure outer("fetch", "1", RetryState::kNonRetryableFailure, app);

  auto back = RoundTrip(outer);
  ASSERT_NE(dynamic_cast<const ActivityFailure*>(back.get()), nullptr);
  const Error* c1 = back->Cause();
  ASSERT_NE(dynamic_cast<const ApplicationError*>(c1), nullptr);
  EXPECT_STREQ(c1->what(), "upstream failed");
  const Error* c2 = c1->Cause();
  ASSERT_NE(dynamic_cast<const CanceledError*>(c2), nullptr);
  EXPECT_STREQ(c2->what(), "deadline hit");
  EXPECT_EQ(c2->Cause(), nullptr);

  // A TimeoutError cause of an ApplicationError also keeps its kind.
  ApplicationErrorOptions o;
  o.cause = timeout;
  auto back2 = RoundTrip(ApplicationError("Wrapped", "wrapped", o));
  auto* t = dynamic_cast<const TimeoutError*>(back2->Cause());
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->Type(), TimeoutType::kStartToClose);
}

TEST(FailureConvertTest, FailureWithoutInfoBecomesAnUntypedApplicationError) {
  v1::Failure f;
  f.set_message("from another SDK");
  f.mutable_cause()->set_message("root");
  f.mutable_cause()->mutable_canceled_failure_info();
  auto e = FailureToError(f);
  auto* app = dynamic_cast<const ApplicationError*>(e.get());
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->Type(), "");
  EXPECT_STREQ(app->what(), "from another SDK");
  EXPECT_NE(dynamic_cast<const CanceledError*>(app->Cause()), nullptr);
}

TEST(FailureConvertTest, OtherKeelErrorsBecomeApplicationErrorsNamedByKind) {
  WorkflowFailedError e("wf-1", "run-1", "failed", nullptr);
  v1::Failure f = ErrorToFailure(e);
  ASSERT_TRUE(f.has_application_failure_info());
  EXPECT_EQ(f.application_failure_info().type(), "WorkflowFailedError");
  EXPECT_EQ(f.message(), e.what());
}

TEST(FailureConvertTest, StdExceptionsBecomeApplicationErrorsNamedByClass) {
  v1::Failure f = ExceptionToFailure(std::make_exception_ptr(std::runtime_error("boom")));
  EXPECT_EQ(f.application_failure_info().type(), "std::runtime_error");
  EXPECT_EQ(f.message(), "boom");
  EXPECT_FALSE(f.application_failure_info().non_retryable());
  EXPECT_EQ(f.source(), "keel-cpp");

  f = ExceptionToFailure(std::make_exception_ptr(std::out_of_range("index 9")));
  EXPECT_EQ(f.application_failure_info().type(), "std::out_of_range");

  f = ExceptionToFailure(std::make_exception_ptr(DiskFull()));
  EXPECT_EQ(f.application_failure_info().type(), "keel::failure_test::DiskFull");
  EXPECT_EQ(f.message(), "no space left");
}

TEST(FailureConvertTest, KeelErrorsThroughExceptionToFailureKeepTheirKind) {
  v1::Failure f = ExceptionToFailure(
      std::make_exception_ptr(ApplicationError("Boom", "bad", {.non_retryable = true})));
  EXPECT_EQ(f.application_failure_info().type(), "Boom");
  EXPECT_TRUE(f.application_failure_info().non_retryable());

  f = ExceptionToFailure(
      std::make_exception_ptr(TimeoutError(TimeoutType::kScheduleToStart, "queued")));
  EXPECT_TRUE(f.has_timeout_failure_info());
}

TEST(FailureConvertTest, NonStdExceptionIsUnknown) {
  v1::Failure f = ExceptionToFailure(std::make_exception_ptr(42));
  EXPECT_EQ(f.application_failure_info().type(), "unknown");
  EXPECT_FALSE(f.message().empty());
}

TEST(FailureConvertTest, ExceptionTypeNameIsDemangled) {
  EXPECT_EQ(ExceptionTypeName(std::invalid_argument("x")), "std::invalid_argument");
  EXPECT_EQ(ExceptionTypeName(DiskFull()), "keel::failure_test::DiskFull");
  // The dynamic type, not the static one.
  const std::exception& base = ApplicationError("T", "m");
  EXPECT_EQ(ExceptionTypeName(base), "keel::ApplicationError");
}

TEST(FailureConvertTest, ToExceptionPtrKeepsTheDynamicType) {
  auto rethrow_kind = [](const Error& e) -> std::string {
    try {
      std::rethrow_exception(ToExceptionPtr(e));
    } catch (const ActivityFailure&) {
      return "ActivityFailure";
    } catch (const ApplicationError& a) {
      return "ApplicationError " + a.Type();
    } catch (const TimeoutError&) {
      return "TimeoutError";
    } catch (const CanceledError&) {
      return "CanceledError";
    } catch (const TerminatedError&) {
      return "TerminatedError";
    } catch (const ServerError&) {
      return "ServerError";
    } catch (const WorkflowFailedError&) {
      return "WorkflowFailedError";
    } catch (...) {
      return "other";
    }
  };
  EXPECT_EQ(rethrow_kind(ApplicationError("Boom", "m")), "ApplicationError Boom");
  EXPECT_EQ(rethrow_kind(TimeoutError(TimeoutType::kHeartbeat, "m")), "TimeoutError");
  EXPECT_EQ(rethrow_kind(CanceledError()), "CanceledError");
  EXPECT_EQ(rethrow_kind(TerminatedError()), "TerminatedError");
  EXPECT_EQ(rethrow_kind(ServerError("m")), "ServerError");
  EXPECT_EQ(rethrow_kind(ActivityFailure("a", "1", RetryState::kTimeout, nullptr)),
            "ActivityFailure");
  EXPECT_EQ(rethrow_kind(WorkflowFailedError("w", "r", "failed", nullptr)), "WorkflowFailedError");
  // A cause converted back from a Failure can be rethrown as what it was.
  auto back = RoundTrip(CanceledError("x"));
  EXPECT_EQ(rethrow_kind(*back), "CanceledError");
}

}  // namespace
}  // namespace keel::failure_test
