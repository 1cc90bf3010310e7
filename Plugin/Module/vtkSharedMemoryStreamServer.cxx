// SPDX-License-Identifier: BSD-3-Clause
#include "vtkSharedMemoryStreamServer.h"

//------------------------------------------------------------------------------
SharedMemoryImageError vtkSharedMemoryStreamServer::Serve(
  const char* fileName, bool enSight, const SharedMemoryImageDesc& frame, uint32_t extraOptions)
{
  this->Close();
  const SharedMemoryImageError err = SharedMemoryImageStream_serve(fileName,
    enSight ? IMAGESTREAM_LAYOUT_ENSIGHT : IMAGESTREAM_LAYOUT_EXTENDED, &frame, extraOptions,
    &this->Stream_, &this->Bytes);
  if (err < IMAGESTREAM_NOERROR)
  {
    this->Bytes = 0;
    return err;
  }
  this->File = fileName;
  this->EnSight = enSight;
  return IMAGESTREAM_NOERROR;
}

//------------------------------------------------------------------------------
std::string vtkSharedMemoryStreamServer::ErrorText(
  const char* fileName, SharedMemoryImageError err)
{
  char text[1400];
  return SharedMemoryImageStream_openerrorstring(
    fileName, IMAGESTREAM_OPTIONS_NONE, err, nullptr, text, sizeof(text));
}

//------------------------------------------------------------------------------
void vtkSharedMemoryStreamServer::Close()
{
  if (this->Stream_)
  {
    SharedMemoryImageStream_destroy(this->Stream_);
    this->Stream_ = nullptr;
  }
  this->File.clear();
  this->Bytes = 0;
}

//------------------------------------------------------------------------------
uint32_t vtkSharedMemoryStreamServer::LastFrame() const
{
  SharedMemoryStreamInfo info;
  if (this->Stream_ && SharedMemoryImageStream_info(this->Stream_, &info) == IMAGESTREAM_NOERROR)
  {
    return info.last_frame;
  }
  return 0;
}
