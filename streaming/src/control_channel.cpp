#include "cs/streaming/control_channel.hpp"

namespace cs::streaming {
namespace {

void delete_deliver(gpointer data, GClosure*) {
  delete static_cast<ControlChannel::Deliver*>(data);
}

}  // namespace

ControlChannel::ControlChannel(GstWebRTCDataChannel* channel)
    : channel_(GRef<GstWebRTCDataChannel>::ref_sink(channel)) {}

std::shared_ptr<ControlChannel> ControlChannel::make(GstWebRTCDataChannel* channel) {
  return std::shared_ptr<ControlChannel>(new ControlChannel(channel));
}

void ControlChannel::listen(Deliver deliver) {
  auto on_string = +[](GstWebRTCDataChannel*, gchar* text, gpointer data) {
    (*static_cast<Deliver*>(data))(text ? std::string(text) : std::string(), false);
  };
  auto on_data = +[](GstWebRTCDataChannel*, GBytes*, gpointer data) {
    (*static_cast<Deliver*>(data))(std::string(), true);
  };
  on_string_ = g_signal_connect_data(channel_.get(), "on-message-string", G_CALLBACK(on_string),
                                     new Deliver(deliver), delete_deliver, GConnectFlags(0));
  on_data_ =
      g_signal_connect_data(channel_.get(), "on-message-data", G_CALLBACK(on_data),
                            new Deliver(std::move(deliver)), delete_deliver, GConnectFlags(0));
}

ControlChannel::~ControlChannel() {
  if (on_string_) g_signal_handler_disconnect(channel_.get(), on_string_);
  if (on_data_) g_signal_handler_disconnect(channel_.get(), on_data_);
}

bool ControlChannel::send(const std::string& text, std::string& error) {
  GError* failure = nullptr;
  if (gst_webrtc_data_channel_send_string_full(channel_.get(), text.c_str(), &failure)) return true;
  error = failure ? failure->message : "the data channel refused the message";
  if (failure) g_error_free(failure);
  return false;
}

}  // namespace cs::streaming
